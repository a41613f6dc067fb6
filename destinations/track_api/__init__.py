"""Customer.io's HTTP edge: the one module that speaks HTTP to the Track API (transport.py), the one
place that says what an answer means (answers.py), and the credentials check the admin offers
(credentials.py). The delivery engine and the admin both use it; it never imports either.
"""
