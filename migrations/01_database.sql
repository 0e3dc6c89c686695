-- The platform database. Every later migration creates its objects inside it.
CREATE DATABASE IF NOT EXISTS {{db}} {{on_cluster}};
