# Loops forever before answering anything: the timeout stops it, the batch goes on.
while True:
    pass
