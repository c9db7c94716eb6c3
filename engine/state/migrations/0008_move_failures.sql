-- A finished download's failed automatic move: why (move_err) and to which
-- folder (move_to), kept until a move succeeds so that it still shows after
-- a restart. Empty when there is none.
ALTER TABLE transfers ADD COLUMN move_err TEXT NOT NULL DEFAULT '';
ALTER TABLE transfers ADD COLUMN move_to TEXT NOT NULL DEFAULT '';
