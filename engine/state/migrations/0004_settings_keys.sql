-- One convention for keys in the settings table: lower-case snake_case
-- words, a version as a _vN suffix, and a key about one item ending in
-- ":<id>" (see engine/settingkeys.go). Two older keys did not follow it.
UPDATE settings SET key = 'settings_v1' WHERE key = 'settings.v1';
UPDATE settings SET key = 'transfer_options:' || substr(key, length('transfer-options:') + 1)
 WHERE key LIKE 'transfer-options:%';
