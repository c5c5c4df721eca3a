-- Schema and rows shared by every benchmark target (PostgreSQL: pg_seed.sql, same rows).
--   sqlite3 app.db < bench/seed.sql                 -- 100,000 accounts
-- The harness sets two sqlite3 CLI parameters before this file for the --scale databases:
--   .parameter set @rows 10000000   -- number of accounts (default 100000)
--   .parameter set @pad 200         -- extra characters appended to each name (default 0),
--                                   -- to make the file large without changing the queries
CREATE TABLE IF NOT EXISTS accounts(id INTEGER PRIMARY KEY, name TEXT NOT NULL, balance INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS events(id INTEGER PRIMARY KEY, account_id INTEGER NOT NULL, payload TEXT NOT NULL);
INSERT INTO accounts(id, name, balance)
  WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < coalesce(@rows, 100000))
  SELECT i,
         'account-' || i || CASE WHEN coalesce(@pad, 0) > 0 THEN '-' || printf('%.*c', @pad, 'x') ELSE '' END,
         i * 10
  FROM c;
