-- seed/schema.sql - certctl's table shapes, written for fleetsim's tests from certctl's
-- migrations at commit aad95d3 (000001 through 000028, folded into final shapes); not certctl's
-- code. Used by fleetsim-target's PostgreSQL store and by the tests; safe to load twice.
--
-- Only the tables fleetsim reads or writes are here, each with certctl's column names, types,
-- defaults, NOT NULLs, foreign keys (and their ON DELETE actions) and UNIQUEs. Not included:
-- policy rules/violations, revocations, discovery, network scans, CRL/OCSP caches, approvals,
-- intermediate CAs, RBAC. certctl also puts a WORM trigger on audit_events (000018: UPDATE and
-- DELETE raise); it is left out here, and fleetsim never modifies audit_events anyway.
-- Nothing is inserted: certctl creates issuer iss-local itself, only while issuers is empty.

CREATE TABLE IF NOT EXISTS teams (
  id TEXT PRIMARY KEY,
  name VARCHAR(255) NOT NULL UNIQUE,
  description TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE IF NOT EXISTS owners (
  id TEXT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  email VARCHAR(255) NOT NULL,
  team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS idx_owners_team_id ON owners(team_id);

-- 000003, 000022, 000025, 000027
CREATE TABLE IF NOT EXISTS certificate_profiles (
  id TEXT PRIMARY KEY,
  name VARCHAR(255) NOT NULL UNIQUE,
  description TEXT DEFAULT '',
  allowed_key_algorithms JSONB NOT NULL DEFAULT '[{"algorithm": "ECDSA", "min_size": 256}, {"algorithm": "RSA", "min_size": 2048}]',
  max_ttl_seconds INT NOT NULL DEFAULT 0,
  allowed_ekus JSONB NOT NULL DEFAULT '["serverAuth"]',
  required_san_patterns JSONB NOT NULL DEFAULT '[]',
  spiffe_uri_pattern VARCHAR(512) DEFAULT '',
  allow_short_lived BOOLEAN NOT NULL DEFAULT false,
  enabled BOOLEAN NOT NULL DEFAULT true,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  required_csr_attributes JSONB NOT NULL DEFAULT '[]',
  must_staple BOOLEAN NOT NULL DEFAULT false,
  acme_auth_mode TEXT NOT NULL DEFAULT 'trust_authenticated'
    CONSTRAINT certificate_profiles_acme_auth_mode_chk
    CHECK (acme_auth_mode IN ('trust_authenticated', 'challenge')),
  requires_approval BOOLEAN NOT NULL DEFAULT false
);

-- 000001, 000003, 000017 (retry_interval_minutes renamed), 000026
CREATE TABLE IF NOT EXISTS renewal_policies (
  id TEXT PRIMARY KEY,
  name VARCHAR(255) NOT NULL UNIQUE,
  renewal_window_days INT NOT NULL,
  auto_renew BOOLEAN NOT NULL DEFAULT true,
  max_retries INT NOT NULL DEFAULT 3,
  retry_interval_seconds INT NOT NULL DEFAULT 60,
  alert_thresholds_days JSONB NOT NULL DEFAULT '[30, 14, 7, 0]',
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  certificate_profile_id TEXT REFERENCES certificate_profiles(id) ON DELETE SET NULL,
  alert_channels JSONB NOT NULL DEFAULT '{}'::jsonb,
  alert_severity_map JSONB NOT NULL DEFAULT '{}'::jsonb
);

-- 000001, 000009, 000028
CREATE TABLE IF NOT EXISTS issuers (
  id TEXT PRIMARY KEY,
  name VARCHAR(255) NOT NULL UNIQUE,
  type VARCHAR(255) NOT NULL,
  config JSONB,
  enabled BOOLEAN NOT NULL DEFAULT true,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  encrypted_config BYTEA,
  last_tested_at TIMESTAMPTZ,
  test_status TEXT NOT NULL DEFAULT 'untested',
  source TEXT NOT NULL DEFAULT 'database',
  hierarchy_mode VARCHAR(20) NOT NULL DEFAULT 'single'
);

-- 000001, 000002 (metadata), 000015 (retirement)
CREATE TABLE IF NOT EXISTS agents (
  id TEXT PRIMARY KEY,
  name VARCHAR(255) NOT NULL UNIQUE,
  hostname VARCHAR(255) NOT NULL,
  status VARCHAR(50) NOT NULL DEFAULT 'offline',
  last_heartbeat_at TIMESTAMPTZ,
  registered_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  api_key_hash VARCHAR(255) NOT NULL,
  os VARCHAR(100) DEFAULT '',
  architecture VARCHAR(100) DEFAULT '',
  ip_address VARCHAR(45) DEFAULT '',
  version VARCHAR(50) DEFAULT '',
  retired_at TIMESTAMPTZ,
  retired_reason TEXT
);
CREATE INDEX IF NOT EXISTS idx_agents_status ON agents(status);
CREATE INDEX IF NOT EXISTS idx_agents_last_heartbeat_at ON agents(last_heartbeat_at);

-- 000001, 000003, 000005, 000023
CREATE TABLE IF NOT EXISTS managed_certificates (
  id TEXT PRIMARY KEY,
  name VARCHAR(255) NOT NULL UNIQUE,
  common_name VARCHAR(255) NOT NULL,
  sans TEXT[] DEFAULT ARRAY[]::TEXT[],
  environment VARCHAR(50),
  owner_id TEXT NOT NULL REFERENCES owners(id) ON DELETE RESTRICT,
  team_id TEXT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
  issuer_id TEXT NOT NULL REFERENCES issuers(id) ON DELETE RESTRICT,
  renewal_policy_id TEXT NOT NULL REFERENCES renewal_policies(id) ON DELETE RESTRICT,
  status VARCHAR(50) NOT NULL DEFAULT 'pending',
  expires_at TIMESTAMPTZ,
  tags JSONB NOT NULL DEFAULT '{}',
  last_renewal_at TIMESTAMPTZ,
  last_deployment_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  certificate_profile_id TEXT REFERENCES certificate_profiles(id) ON DELETE SET NULL,
  revoked_at TIMESTAMPTZ,
  revocation_reason VARCHAR(50),
  source TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS idx_managed_certificates_status ON managed_certificates(status);
CREATE INDEX IF NOT EXISTS idx_managed_certificates_expires_at ON managed_certificates(expires_at);
CREATE INDEX IF NOT EXISTS idx_managed_certificates_owner_id ON managed_certificates(owner_id);
CREATE INDEX IF NOT EXISTS idx_managed_certificates_team_id ON managed_certificates(team_id);
CREATE INDEX IF NOT EXISTS idx_managed_certificates_issuer_id ON managed_certificates(issuer_id);

-- 000001, 000010, 000015 (agent_id FK flipped to RESTRICT)
CREATE TABLE IF NOT EXISTS deployment_targets (
  id TEXT PRIMARY KEY,
  name VARCHAR(255) NOT NULL,
  type VARCHAR(255) NOT NULL,
  agent_id TEXT NOT NULL
    CONSTRAINT deployment_targets_agent_id_fkey REFERENCES agents(id) ON DELETE RESTRICT,
  config JSONB,
  enabled BOOLEAN NOT NULL DEFAULT true,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  encrypted_config BYTEA,
  last_tested_at TIMESTAMPTZ,
  test_status TEXT NOT NULL DEFAULT 'untested',
  source TEXT NOT NULL DEFAULT 'database',
  retired_at TIMESTAMPTZ,
  retired_reason TEXT
);
CREATE INDEX IF NOT EXISTS idx_deployment_targets_agent_id ON deployment_targets(agent_id);
CREATE UNIQUE INDEX IF NOT EXISTS idx_deployment_targets_agent_name
  ON deployment_targets(agent_id, name);

CREATE TABLE IF NOT EXISTS certificate_target_mappings (
  certificate_id TEXT NOT NULL REFERENCES managed_certificates(id) ON DELETE CASCADE,
  target_id TEXT NOT NULL REFERENCES deployment_targets(id) ON DELETE CASCADE,
  PRIMARY KEY (certificate_id, target_id)
);
CREATE INDEX IF NOT EXISTS idx_certificate_target_mappings_target_id
  ON certificate_target_mappings(target_id);

-- 000001, 000003 (key metadata)
CREATE TABLE IF NOT EXISTS certificate_versions (
  id TEXT PRIMARY KEY,
  certificate_id TEXT NOT NULL REFERENCES managed_certificates(id) ON DELETE CASCADE,
  serial_number VARCHAR(255) NOT NULL,
  not_before TIMESTAMPTZ NOT NULL,
  not_after TIMESTAMPTZ NOT NULL,
  fingerprint_sha256 VARCHAR(255) NOT NULL UNIQUE,
  pem_chain TEXT NOT NULL,
  csr_pem TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  key_algorithm VARCHAR(50) DEFAULT '',
  key_size INT DEFAULT 0
);
CREATE INDEX IF NOT EXISTS idx_certificate_versions_cert_created
  ON certificate_versions(certificate_id, created_at DESC);

-- 000001, 000008 (verification). status has no CHECK in certctl.
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY,
  type VARCHAR(255) NOT NULL,
  certificate_id TEXT REFERENCES managed_certificates(id) ON DELETE CASCADE,
  target_id TEXT REFERENCES deployment_targets(id) ON DELETE SET NULL,
  agent_id TEXT REFERENCES agents(id) ON DELETE SET NULL,
  status VARCHAR(50) NOT NULL DEFAULT 'pending',
  attempts INT NOT NULL DEFAULT 0,
  max_attempts INT NOT NULL DEFAULT 3,
  last_error TEXT,
  deployment_result JSONB,
  scheduled_at TIMESTAMPTZ,
  started_at TIMESTAMPTZ,
  completed_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  verification_status TEXT DEFAULT 'pending',
  verified_at TIMESTAMPTZ,
  verification_fingerprint TEXT,
  verification_error TEXT
);
CREATE INDEX IF NOT EXISTS idx_jobs_status ON jobs(status);
CREATE INDEX IF NOT EXISTS idx_jobs_certificate_id ON jobs(certificate_id);
CREATE INDEX IF NOT EXISTS idx_jobs_agent_id ON jobs(agent_id);
CREATE INDEX IF NOT EXISTS idx_jobs_status_scheduled_at ON jobs(status, scheduled_at);

-- 000001, 000017 (created_at)
CREATE TABLE IF NOT EXISTS notification_events (
  id TEXT PRIMARY KEY,
  type VARCHAR(255) NOT NULL,
  certificate_id TEXT REFERENCES managed_certificates(id) ON DELETE CASCADE,
  channel VARCHAR(255) NOT NULL,
  recipient VARCHAR(255) NOT NULL,
  message TEXT NOT NULL,
  sent_at TIMESTAMPTZ,
  status VARCHAR(50) NOT NULL DEFAULT 'pending',
  error TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW()
);

CREATE TABLE IF NOT EXISTS audit_events (
  id TEXT PRIMARY KEY,
  actor VARCHAR(255) NOT NULL,
  actor_type VARCHAR(50) NOT NULL,
  action VARCHAR(255) NOT NULL,
  resource_type VARCHAR(255) NOT NULL,
  resource_id VARCHAR(255) NOT NULL,
  details JSONB,
  timestamp TIMESTAMPTZ NOT NULL DEFAULT NOW()
);
CREATE INDEX IF NOT EXISTS idx_audit_events_resource_type_id ON audit_events(resource_type, resource_id);
CREATE INDEX IF NOT EXISTS idx_audit_events_timestamp ON audit_events(timestamp);

-- 000025: ACME server state
CREATE TABLE IF NOT EXISTS acme_accounts (
  account_id TEXT PRIMARY KEY,
  jwk_thumbprint TEXT NOT NULL,
  jwk_pem TEXT NOT NULL,
  contact TEXT[],
  status TEXT NOT NULL,
  profile_id TEXT NOT NULL,
  owner_id TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  FOREIGN KEY (profile_id) REFERENCES certificate_profiles(id),
  FOREIGN KEY (owner_id) REFERENCES owners(id),
  UNIQUE (profile_id, jwk_thumbprint)
);

CREATE TABLE IF NOT EXISTS acme_orders (
  order_id TEXT PRIMARY KEY,
  account_id TEXT NOT NULL,
  identifiers JSONB NOT NULL,
  status TEXT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  not_before TIMESTAMPTZ,
  not_after TIMESTAMPTZ,
  error JSONB,
  csr_pem TEXT,
  certificate_id TEXT,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  FOREIGN KEY (account_id) REFERENCES acme_accounts(account_id),
  FOREIGN KEY (certificate_id) REFERENCES managed_certificates(id)
);
CREATE INDEX IF NOT EXISTS idx_acme_orders_account ON acme_orders(account_id);

CREATE TABLE IF NOT EXISTS acme_authorizations (
  authz_id TEXT PRIMARY KEY,
  order_id TEXT NOT NULL,
  identifier JSONB NOT NULL,
  status TEXT NOT NULL,
  expires_at TIMESTAMPTZ NOT NULL,
  wildcard BOOLEAN NOT NULL DEFAULT FALSE,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  FOREIGN KEY (order_id) REFERENCES acme_orders(order_id)
);

CREATE TABLE IF NOT EXISTS acme_challenges (
  challenge_id TEXT PRIMARY KEY,
  authz_id TEXT NOT NULL,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  token TEXT NOT NULL,
  validated_at TIMESTAMPTZ,
  error JSONB,
  created_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  FOREIGN KEY (authz_id) REFERENCES acme_authorizations(authz_id)
);

CREATE TABLE IF NOT EXISTS acme_nonces (
  nonce TEXT PRIMARY KEY,
  issued_at TIMESTAMPTZ NOT NULL DEFAULT NOW(),
  expires_at TIMESTAMPTZ NOT NULL,
  used BOOLEAN NOT NULL DEFAULT FALSE
);
CREATE INDEX IF NOT EXISTS idx_acme_nonces_expires ON acme_nonces(expires_at) WHERE used = FALSE;
