"""Materials: the raw materials lake, the certificates of analysis of lots whose testing is
complete, and the e-mail of the monthly materials reports (the dbt marts of the group come with
the dbt project; the monthly reports with the monthly report run)."""
