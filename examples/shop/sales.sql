-- MariaDB: orders, referring to PostgreSQL's customers by id.
CREATE TABLE orders (
  id int PRIMARY KEY,
  customer_id int NOT NULL,
  placed date NOT NULL,
  total decimal(10,2),
  note varchar(200)
);
INSERT INTO orders VALUES
  (100, 1, '2024-05-01', 120.00, 'express 🚀'),
  (101, 1, '2024-05-03', 35.50, NULL),
  (102, 2, '2024-05-04', 980.00, '贈り物'),
  (103, 4, '2024-05-06', NULL, 'pending quote'),
  (104, 2, '2024-05-07', 12.25, NULL);
