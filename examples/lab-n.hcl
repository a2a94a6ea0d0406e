# The lab's three namespace nodes (see the lab helper): directory bricks on /bricks.
cluster = "lab"

ssh {
  user        = "root"
  known_hosts = "accept-new"
}

node "n1" {
  manage = "10.99.0.11"
  zone   = 1
  paths  = ["/bricks/d0", "/bricks/d1"]
}
node "n2" {
  manage = "10.99.0.12"
  zone   = 2
  paths  = ["/bricks/d0", "/bricks/d1"]
}
node "n3" {
  manage = "10.99.0.13"
  zone   = 3
  paths  = ["/bricks/d0", "/bricks/d1"]
}

volume "labvol" {
  size       = "1GiB"
  durability = { type = "replicate", replica = 3 }
}
