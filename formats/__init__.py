"""Vector file formats (``wordvec.formats``): the store's on-disk layout and, one module per
format, readers and writers for the formats users bring."""
