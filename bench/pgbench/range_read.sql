-- Range read: 20 consecutive rows by primary key.
\set k random(1, :rows - 19)
SELECT id, name, balance FROM accounts WHERE id BETWEEN :k AND :k + 19;
