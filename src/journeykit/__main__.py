from journeykit.cli.app import main

main()
