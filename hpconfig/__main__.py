from hpconfig.cli import main

main()
