-- Tenants as data: who may call the API, what it may read, at what rate. Changed only by `carbon tenants` (each
-- change audited in audit_log and announced with NOTIFY carbon_tenants, which every worker listens to).
CREATE TABLE tenants (
  name             text             PRIMARY KEY,
  commodities      text[],                      -- commodity ids it may read; NULL: every commodity
  rate_per_second  double precision NOT NULL CHECK (rate_per_second > 0),
  burst            double precision NOT NULL CHECK (burst >= 1),
  created_at       timestamptz      NOT NULL DEFAULT now(),
  updated_at       timestamptz      NOT NULL DEFAULT now(),
  revoked_at       timestamptz                  -- set: every token refused, until a new token is issued
);

-- Only the SHA-256 of a token is stored; the token itself is printed once, when it is made.
CREATE TABLE tenant_tokens (
  token_sha256  text        PRIMARY KEY CHECK (token_sha256 ~ '^[0-9a-f]{64}$'),
  tenant        text        NOT NULL REFERENCES tenants (name),
  created_at    timestamptz NOT NULL DEFAULT now(),
  expires_at    timestamptz                       -- NULL: until rotated or revoked; set on rotation (the overlap)
);
CREATE INDEX tenant_tokens_by_tenant ON tenant_tokens (tenant);
