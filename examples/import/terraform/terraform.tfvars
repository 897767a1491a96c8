# staging: save money
db_multi_az = false
