-- The BEP 52 pieces roots of a finished v1 download's files, worked out in
-- the background after it finished (as library.roots are for items shared
-- before 0006), so search matches its files with the same files in v2 and
-- hybrid torrents. NULL: not looked for yet; an empty blob: looked for,
-- none to be had (the files had changed).
ALTER TABLE transfers ADD COLUMN roots BLOB;
