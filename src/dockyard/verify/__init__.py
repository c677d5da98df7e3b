"""Verify: prove each image is what its platform entry claims (issue 7).

Modules: findings (the Finding model every check reports), elf (ELF header
parsing and comparison, pure), archscan (streams layers once, checks every
ELF executable and shared object of the final filesystem view).
"""
