"""Logistics: vessels, vessel calls (DCSA transport calls), bookings (Booking 2.0), containers."""
