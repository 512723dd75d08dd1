from whorf.cli import main

main()
