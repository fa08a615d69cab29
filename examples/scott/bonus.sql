-- bonus exists only on postgre1; postgre2 reads it through the dblink link.
SET LOCAL search_path = scott;

CREATE TABLE bonus (
  empno integer NOT NULL PRIMARY KEY,
  bonus integer
);

INSERT INTO bonus VALUES (7499, 300), (7521, 500), (7654, 1400), (7844, 0);
