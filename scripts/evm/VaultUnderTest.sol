// SPDX-License-Identifier: Apache-2.0
// The ERC-4626 vault the differential test (host/evm/tests/all/erc4626.rs)
// runs the simulator's `Vault4626` against: OpenZeppelin Contracts' ERC4626
// (the version in node_modules, 4.9.6) made concrete, with a mintable
// asset. Test contracts only: anyone can mint the asset.
pragma solidity ^0.8.20;

import "@openzeppelin/contracts/token/ERC20/ERC20.sol";
import "@openzeppelin/contracts/token/ERC20/extensions/ERC4626.sol";

/// An ERC-20 with `decimals_` decimals that anyone can mint.
contract TestAsset is ERC20 {
    uint8 private immutable _assetDecimals;

    constructor(uint8 decimals_) ERC20("Test Asset", "TASSET") {
        _assetDecimals = decimals_;
    }

    function decimals() public view override returns (uint8) {
        return _assetDecimals;
    }

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }
}

/// OpenZeppelin's ERC4626 over `asset_`, unchanged except for the virtual
/// shares' decimals offset, set at construction (0 is OpenZeppelin's
/// default, `_decimalsOffset() == 0`).
contract VaultUnderTest is ERC4626 {
    uint8 private immutable _offset;

    constructor(IERC20 asset_, uint8 offset_) ERC20("Vault Under Test", "vTASSET") ERC4626(asset_) {
        _offset = offset_;
    }

    function _decimalsOffset() internal view override returns (uint8) {
        return _offset;
    }
}
