dir d 0755 0:0 0 -
dir/nested d 0755 0:0 0 -
dir/nested/n.txt f 0644 0:0 2 a4fb621495a01224
etc d 0755 0:0 0 -
etc/hello.conf f 0644 0:0 6 5891b5b522d5df08
hello.txt f 0644 0:0 6 5891b5b522d5df08
