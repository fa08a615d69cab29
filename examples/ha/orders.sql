-- A table the demo writes to on the primary and reads back from both standbys.
CREATE TABLE sales.orders (
  id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  customer text NOT NULL,
  amount   numeric(10, 2) NOT NULL,
  at       timestamptz NOT NULL DEFAULT now()
);

INSERT INTO sales.orders (customer, amount) VALUES ('ana', 12.50), ('bob', 99.00);
