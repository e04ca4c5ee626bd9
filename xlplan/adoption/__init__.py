"""Starting a plan of the city's own: a blank master, or one built from the table the city already has.

- :mod:`~xlplan.adoption.start`: ``xlplan init`` — a blank master, the embedded example, or a table;
- :mod:`~xlplan.adoption.table`: reading a consolidated table (事業実績一覧) back into a plan and its history.
"""
