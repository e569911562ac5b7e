echo "count: 1 2 3"
