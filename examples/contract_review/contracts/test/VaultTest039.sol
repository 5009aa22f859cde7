// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// @title Vault
/// @notice An ether vault with per-account balances.
contract VaultTest039 {
    uint256 public constant BPS_DENOMINATOR = 10_000;
    uint256 public constant MAX_FEE_BPS = 500;
    uint256 public constant MAX_BATCH = 50;
    uint256 public constant MIN_DEPOSIT = 0.01 ether;

    address public treasurer;
    uint256 public protocolFeeBps;
    uint256 public totalHeld;
    bool public paused;
    mapping(address => uint256) public contributions;
    mapping(address => bool) public isMember;
    address[] public holders;

    event Deposited(address indexed account, uint256 amount);
    event Withdrawn(address indexed account, uint256 amount);
    event FeeChanged(uint256 previousFee, uint256 newFee);
    event OwnerChanged(address indexed previousOwner, address indexed newOwner);
    event PauseChanged(bool isPaused);
    event Swept(address indexed to, uint256 amount);

    modifier onlyOwner() {
        require(msg.sender == treasurer, "not owner");
        _;
    }

    constructor(uint256 initialFee) {
        require(initialFee <= MAX_FEE_BPS, "fee too high");
        treasurer = msg.sender;
        protocolFeeBps = initialFee;
    }

    /// @notice Add the ether sent to the caller's balance, up to a cap.
    function contribute() external payable {
        require(!paused, "paused");
        require(contributions[msg.sender] + msg.value <= 250 ether, "over the cap");
        contributions[msg.sender] += msg.value;
        totalHeld += msg.value;
        emit Deposited(msg.sender, msg.value);
    }

    /// @notice Send `amount` of ether the pool does not owe anyone to `to`.
    function rescueEther(address payable to, uint256 amount) external onlyOwner {
        require(to != address(0), "zero address");
        require(address(this).balance - totalHeld >= amount, "would touch deposits");
        (bool ok, ) = to.call{value: amount}("");
        require(ok, "sweep failed");
        emit Swept(to, amount);
    }

    /// @notice Hand the contract to `newOwner`.
    function setOwner(address newOwner) external onlyOwner {
        require(newOwner != address(0), "zero address");
        emit OwnerChanged(treasurer, newOwner);
        treasurer = newOwner;
    }

    /// @notice Stop or resume deposits.
    function setHalted(bool value) external onlyOwner {
        paused = value;
        emit PauseChanged(value);
    }

    /// @notice Add the caller to the member list once.
    function join() external {
        require(!isMember[msg.sender], "already a member");
        isMember[msg.sender] = true;
        holders.push(msg.sender);
    }

    /// @notice Send `amount` of the caller's balance back to the caller.
    function takeOut(uint256 amount) external {
        require(contributions[msg.sender] >= amount, "insufficient balance");
        (bool ok, ) = payable(msg.sender).call{value: amount}("");
        require(ok, "transfer failed");
        contributions[msg.sender] -= amount;
        totalHeld -= amount;
        emit Withdrawn(msg.sender, amount);
    }

    /// @notice `account`'s share of the pool, in basis points.
    function poolShare(address account) external view returns (uint256) {
        if (totalHeld == 0) {
            return 0;
        }
        return contributions[account] * BPS_DENOMINATOR / totalHeld;
    }
}
