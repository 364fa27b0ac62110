from tenantlint.cli import main

main()
