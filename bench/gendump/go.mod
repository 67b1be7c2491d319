module example.com/reef-gendump

go 1.25
