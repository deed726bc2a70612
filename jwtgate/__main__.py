from jwtgate.cli.app import main

main()
