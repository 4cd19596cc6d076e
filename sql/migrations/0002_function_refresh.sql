-- 0002_function_refresh: why: `xpsync migrate` re-applies sql/functions/ only
-- when something changed, and must still notice a database whose functions
-- differ from the files (an older release, a body edited by hand). It keeps
-- here what it applied last; nothing else reads or writes this table.

CREATE TABLE xp.schema_functions (
    only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    files      text NOT NULL,
    catalog    text NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
);
COMMENT ON TABLE xp.schema_functions IS
    'Written by xpsync migrate: what it last applied from sql/functions, so that a migrate with nothing to do does nothing.';
COMMENT ON COLUMN xp.schema_functions.files IS 'sha256 of the names and contents of the sql/functions files applied';
COMMENT ON COLUMN xp.schema_functions.catalog IS
    'md5 of what they produced: function definitions and comments, triggers, privileges; another value means someone changed them';
