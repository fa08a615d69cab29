-- PostgreSQL: customers, with the types a link has to carry across (text, numeric, date,
-- timestamptz, boolean, NULLs, non-ASCII names).
CREATE TABLE customers (
  id integer PRIMARY KEY,
  name text NOT NULL,
  country char(2),
  credit numeric(10,2),
  since date,
  vip boolean NOT NULL DEFAULT false
);
INSERT INTO customers VALUES
  (1, 'Zoë Ångström', 'SE', 1500.00, '2019-03-14', true),
  (2, '山田 太郎', 'JP', 250.50, '2021-11-02', false),
  (3, 'José Núñez', 'ES', NULL, NULL, false),
  (4, 'Ada Lovelace', 'GB', 0.00, '2024-02-29', true);
