-- The BEP 52 pieces roots of a shared item's files (32 bytes each, in file
-- order), computed when it was shared even when its torrent is v1, so
-- search can match its files with the same files in v2 and hybrid torrents.
-- NULL for items shared before.
ALTER TABLE library ADD COLUMN roots BLOB;
