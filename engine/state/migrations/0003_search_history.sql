-- The last searches, newest "at" first, for the search box's list of
-- recent searches. Words differing only in case are one search.
CREATE TABLE search_history (
    words TEXT PRIMARY KEY COLLATE NOCASE,
    at    INTEGER NOT NULL
) STRICT;
