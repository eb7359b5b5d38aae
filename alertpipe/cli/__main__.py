from alertpipe.cli import main

main()
