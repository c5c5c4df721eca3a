-- Schema and rows shared by every benchmark target.
CREATE TABLE IF NOT EXISTS accounts(id INTEGER PRIMARY KEY, name TEXT NOT NULL, balance INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, payload TEXT NOT NULL);
INSERT INTO accounts(id, name, balance)
  WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 100000)
  SELECT i, 'account-' || i, i * 10 FROM c;
