-- 0071_shop: why: members spend coins on rewards operators list: a Discord
-- role for some days, a Telegram title, or a custom item (merchandise, a
-- payout). A purchase takes the coins at once through the ledger; what needs a
-- person to act waits for an operator's approval, and a decline refunds it
-- through the ledger and puts the item back in stock. A timed role is taken
-- back when it ends (the Discord listener, from the role plan).

CREATE TABLE xp.shop_items (
    code           text PRIMARY KEY CHECK (code ~ '^[a-z0-9][a-z0-9_-]{0,39}$'),
    kind           text NOT NULL CHECK (kind IN ('discord_role', 'telegram_title', 'custom')),
    title          xp.title_words NOT NULL,
    description    xp.description_words NOT NULL DEFAULT '{}',
    price          int NOT NULL CHECK (price BETWEEN 1 AND 1000000),
    -- how many are left; NULL: no limit
    stock          int CHECK (stock >= 0),
    -- a discord_role: the guild and role, held for `days` (NULL: for good)
    guild_id       text CHECK (guild_id ~ '^[0-9]{1,20}$'),
    role_id        text CHECK (role_id ~ '^[0-9]{1,20}$'),
    days           int CHECK (days BETWEEN 1 AND 3650),
    -- wait for an operator (a title or a custom item needs a person to act); else granted at once
    needs_approval boolean NOT NULL DEFAULT true,
    active         boolean NOT NULL DEFAULT true,
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((kind = 'discord_role') = (guild_id IS NOT NULL AND role_id IS NOT NULL)),
    CHECK (kind = 'discord_role' OR days IS NULL)
);
COMMENT ON TABLE xp.shop_items IS
    'The reward shop: a Discord role for N days, a Telegram title or a custom item, with a coin price and stock.';

CREATE TABLE xp.purchases (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    item        text NOT NULL REFERENCES xp.shop_items (code) ON UPDATE CASCADE,
    user_id     bigint NOT NULL REFERENCES xp.users (id) ON DELETE CASCADE,
    account_id  bigint REFERENCES xp.accounts (id) ON DELETE SET NULL,
    -- the platform it was bought on, which hears the review
    platform    text NOT NULL CHECK (platform IN ('telegram', 'discord', 'website')),
    -- the caller's key: the same purchase asked twice (a double tap) is bought once
    request_key text NOT NULL CHECK (length(request_key) BETWEEN 1 AND 200),
    -- what was bought, as it was then
    price       int NOT NULL,
    kind        text NOT NULL,
    guild_id    text,
    role_id     text,
    days        int,
    status      text NOT NULL CHECK (status IN ('pending', 'approved', 'declined')),
    note        text CHECK (length(note) <= 500),
    reviewed_by text,
    reviewed_at timestamptz,
    -- a timed role ends then; expired_at: the listener was told
    expires_at  timestamptz,
    expired_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (account_id, request_key)
);
COMMENT ON TABLE xp.purchases IS
    'Purchases: coins taken at once; pending ones wait for an operator; declined ones were refunded; timed roles expire.';
CREATE INDEX purchases_queue ON xp.purchases (status, id);
CREATE INDEX purchases_person ON xp.purchases (user_id, id);
CREATE INDEX purchases_running ON xp.purchases (expires_at) WHERE status = 'approved' AND expired_at IS NULL;
