-- 0040_client_language: why: a person who never chose a language (/lang) was
-- spoken to in English whatever their Telegram app's language, in the bot's
-- replies and in the listener's notices. xp.users.language defaulted to 'en',
-- so it could not tell "chose English" from "chose nothing", and the database
-- never heard what language the app speaks. The choice is now NULL until it is
-- made, and each account keeps the language its app last reported (Telegram's
-- language_code), which is spoken until the person chooses.

ALTER TABLE xp.users
    ALTER COLUMN language DROP DEFAULT,
    ALTER COLUMN language DROP NOT NULL;

-- 'en' was what everyone had who never chose, and nothing recorded whether it
-- was chosen, so it is read as no choice: the app's language is spoken from now
-- on (someone who did choose English on an app in another language says
-- /lang en once more). Any other value can only have been chosen.
UPDATE xp.users SET language = NULL WHERE language = 'en';

ALTER TABLE xp.accounts
    ADD COLUMN client_language text CHECK (client_language ~ '^[a-z]{2,8}$');

COMMENT ON COLUMN xp.users.language IS
    'The language the person chose (/lang); NULL: none chosen, the language of their app is spoken.';
COMMENT ON COLUMN xp.accounts.client_language IS
    'The language the account''s app last reported (Telegram''s language_code, primary subtag), spoken until the person chooses one.';
