"""``tessel.carver`` (TileLang's ``tilelang.carver``): only what kernel
programs call from it, ``arch.driver.get_num_sms()``."""
