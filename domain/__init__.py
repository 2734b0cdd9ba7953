"""CleverInvo's domain: aggregates, events, money rules and the commands over them."""
