module example.com/fleet/api

go 1.19
