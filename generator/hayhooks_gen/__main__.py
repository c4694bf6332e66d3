from hayhooks_gen.cli import main

main()
