module example.com/reef-loadtarget

go 1.25
