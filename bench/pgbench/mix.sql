-- 90% point reads / 10% single-row inserts, chosen per transaction.
\set r random(1, 100)
\set k random(1, :rows)
\if :r <= 90
SELECT id, name, balance FROM accounts WHERE id = :k;
\else
INSERT INTO events(account_id, payload) VALUES(:k, 'event-payload-0123456789');
\endif
