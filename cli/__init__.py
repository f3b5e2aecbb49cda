"""The ``wordvec`` command line (``wordvec.cli``): one module per command, each parsing its
options, calling one library function and printing the result."""
