"""Publishing the seamless cube: a STAC Collection + Item that tell readers how to open it.

``stac`` builds the pystac objects from a dataset's coordinates and attributes (pure);
``stac_io`` lets pystac write through fsspec; ``api`` ties them to stores and refuses secrets.
"""
