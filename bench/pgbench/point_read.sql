-- Point read by primary key (pgbench -D rows=N).
\set k random(1, :rows)
SELECT id, name, balance FROM accounts WHERE id = :k;
