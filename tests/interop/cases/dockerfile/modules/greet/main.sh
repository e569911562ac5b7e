echo "hello from greet"
