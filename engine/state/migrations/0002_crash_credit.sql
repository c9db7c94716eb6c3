-- Crash credit: pieces that a recheck finds on disk but the bitfield does
-- not list were written by Shoal from the network only once the transfer's
-- first check is recorded (checked = 1). Before that, found pieces may be
-- data the user already had, which is no download.
ALTER TABLE transfers ADD COLUMN checked INTEGER NOT NULL DEFAULT 0;
-- Transfers from before this column: a saved bitfield or no metadata yet
-- means their first check is behind them.
UPDATE transfers SET checked = 1 WHERE length(bitfield) > 0 OR info IS NULL;
