"""The command-line shell over the library: parse options, load, call, write."""
