from jwtgate.cli import main

main()
