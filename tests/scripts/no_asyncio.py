import sys

print("just a plain script with", len(sys.argv) - 1, "arguments")
