-- The control plane's schema. Applied once, in a transaction, under the migrator's advisory lock.

-- Providers, routes, teams and virtual keys: one row each, its body the same object the config file holds under
-- providers.NAME, routes.NAME, teams.NAME or one entry of keys (as JSON text; provider secrets sealed as
-- ${sealed:v1:...}). Every replica composes them with its config file and validates the whole with the file's rules.
CREATE TABLE cp_objects (
    kind        text        NOT NULL CHECK (kind IN ('provider', 'route', 'team', 'key')),
    name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    body        text        NOT NULL,
    -- A virtual key's display prefix (sk-gw-abcd...); null for other kinds.
    display     text,
    revision    bigint      NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, name)
);

-- One row: bumped by every change in the change's transaction; replicas compare it to theirs (NOTIFY and polling).
CREATE TABLE cp_version (
    id       int    PRIMARY KEY CHECK (id = 1),
    version  bigint NOT NULL
);
INSERT INTO cp_version (id, version) VALUES (1, 0);

-- Admin API keys: separate from virtual keys; the hash only (sha256:HEX) and a display prefix.
CREATE TABLE cp_admin_keys (
    id          text        PRIMARY KEY,
    hash        text        NOT NULL UNIQUE,
    display     text        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    created_by  text        NOT NULL
);

-- Every change: who, when, what, and the object before and after (secrets masked).
CREATE TABLE cp_audit (
    id        bigserial   PRIMARY KEY,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text        NOT NULL,
    action    text        NOT NULL,
    kind      text        NOT NULL,
    name      text        NOT NULL,
    before    text,
    after     text,
    version   bigint      NOT NULL
);
CREATE INDEX cp_audit_at ON cp_audit (at);

-- Usage per day, key, team and route, from the same records the request log gets, added in batches.
CREATE TABLE cp_usage_daily (
    day            date   NOT NULL,
    key_id         text   NOT NULL,
    team           text   NOT NULL DEFAULT '',
    route          text   NOT NULL,
    requests       bigint NOT NULL DEFAULT 0,
    errors         bigint NOT NULL DEFAULT 0,
    input_tokens   bigint NOT NULL DEFAULT 0,
    output_tokens  bigint NOT NULL DEFAULT 0,
    cached_tokens  bigint NOT NULL DEFAULT 0,
    cost_nano_usd  bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, key_id, team, route)
);
