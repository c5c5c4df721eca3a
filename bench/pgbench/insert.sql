-- Single-row insert, one transaction per insert.
\set a random(1, :rows)
INSERT INTO events(account_id, payload) VALUES(:a, 'event-payload-0123456789');
